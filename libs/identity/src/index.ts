export { IdentityModule } from './identity.module';
export { AuthenticationGuard } from './authentication.guard';
export { Public, PUBLIC_ROUTE } from './public.decorator';
export { OperatorOnly, OPERATOR_ROUTE } from './operator.decorator';
export { DevIssuer, type MintOptions } from './dev-issuer';
export type { Principal, AuthenticatedRequest } from './principal';
export { RouteAccess, type RouteAccessRule } from './route-access';
export { headerCount } from './repeated-header';
