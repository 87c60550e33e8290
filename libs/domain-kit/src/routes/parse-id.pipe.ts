import { ArgumentMetadata, Injectable, ParseUUIDPipe } from '@nestjs/common';

/**
 * A uuid path parameter, in the one spelling the platform stores and keys by (lower case):
 * PostgreSQL's uuid type compares either case alike, but Redis keys, the registry's caches and
 * answers that echo the id do not, so an id in capitals must reach none of them as sent.
 */
@Injectable()
export class ParseIdPipe extends ParseUUIDPipe {
  override async transform(value: string, metadata: ArgumentMetadata): Promise<string> {
    return (await super.transform(value, metadata)).toLowerCase();
  }
}
