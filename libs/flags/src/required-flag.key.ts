export const REQUIRED_FLAG = 'bulkhead:required-flag';
