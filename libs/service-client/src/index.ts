export { ServiceClientModule } from './service-client.module';
export { TenantServiceClient, MINTED_TOKEN_SECONDS, type ServiceRequest } from './tenant-service-client';
export { rememberCallerAuthorization } from './caller-authorization';
export { ServiceCredentialsUnavailableProblem } from './service-client.errors';
