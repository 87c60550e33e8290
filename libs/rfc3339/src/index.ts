export { FIRST_INSTANT, LAST_INSTANT, rfc3339Instant } from './rfc3339-instant';
export { IsRfc3339Instant } from './is-rfc3339-instant.decorator';
