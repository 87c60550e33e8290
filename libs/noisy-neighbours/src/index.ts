export { NOISY_NEIGHBOURS_FEATURE } from './noisy-neighbours.feature';
export { NoisyNeighboursModule } from './noisy-neighbours.module';
export { NoisyDetector, type CurrentNoisyTenant, type DetectionOutcome } from './noisy-detector';
export { NoisyDetectorSchedule } from './noisy-detector.schedule';
export { UsageRecorder } from './usage.recorder';
export { UsageStore } from './usage.store';
export { registerUsageHook } from './register-usage-hook';
export { detectNoisy, medianOf, type NoisyFinding, type DetectionOptions } from './noisy-detection';
export { USAGE_MEASURES, MEASURE_FLOORS, minuteOf, type Usage, type UsageMeasure } from './usage-measures';
