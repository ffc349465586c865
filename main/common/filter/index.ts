// The display-filter language: one definition for the dashboard's table
// filter, filtered drains and automatic-answer policy rules.
export * from './ast';
export * from './errors';
export * from './fields';
export { parseFilter, MAX_DEPTH, type ParseOptions } from './parser';
export { formatFilter } from './format';
export { completeFilter, type Completion } from './complete';
export * from './evaluate';
