export { currentUnit, runInUnit, currentTraceContext, runInTraceContext, enterTraceContext } from './async-frame';
