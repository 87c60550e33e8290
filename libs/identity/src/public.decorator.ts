import { SetMetadata } from '@nestjs/common';

export const PUBLIC_ROUTE = 'bulkhead:public';

/** Opts a route out of authentication. Everything else is denied unless a valid token is shown. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);
