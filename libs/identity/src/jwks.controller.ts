import { AcceptsAnyQuery } from '@bulkhead/openapi';
import { Controller, Get, Inject, NotFoundException, Optional } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from './public.decorator';
import { DevIssuer, PublicJwk } from './dev-issuer';

/** Publishes the development issuer's key set; answers 404 when the dev issuer is off. */
@ApiExcludeController()
@AcceptsAnyQuery()
@Controller('.well-known')
export class JwksController {
  constructor(@Optional() @Inject(DevIssuer) private readonly devIssuer?: DevIssuer | null) {}

  @Public()
  @Get('jwks.json')
  jwks(): { keys: PublicJwk[] } {
    if (!this.devIssuer) throw new NotFoundException();
    return this.devIssuer.jwks();
  }
}
