export * from './stage-map.commands.js';
export * from './stage-map.decider.js';
export * from './stage-map.errors.js';
export * from './stage-map.events.js';
export * from './stage-map.model.js';
export * from './stage-map.state.js';
export * from './stage-map.stream.js';
export { MAX_TARGETS, requireValidContent, type StageMapProblem } from './stage-map.validation.js';
