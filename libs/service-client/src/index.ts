export { ServiceClientModule } from './service-client.module';
export { TenantServiceClient, MINTED_TOKEN_SECONDS, type ServiceRequest } from './tenant-service-client';
export { rememberCallerCredentials } from './caller-credentials';
export { ImpersonationNotDelegableProblem, ServiceCredentialsUnavailableProblem } from './service-client.errors';
