export { defineDomain, definePlatformFeature, type BulkheadDomain } from './bulkhead-domain';
export { PageQuery, pageOf, type Page } from './pagination/page.dto';
export { definedOnly } from './patch/defined-only';
export { attachInterceptor } from './routes/attach-interceptor';
export { ParseIdPipe } from './routes/parse-id.pipe';
export { QueryInteger } from './query/query-integer.decorator';
