export { currentUnit, runInUnit, currentTraceContext, runInTraceContext, enterTraceContext } from './async-frame';
export { installFastAsyncResourceBind } from './async-resource-bind';
