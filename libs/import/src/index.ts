export * from './canonical/canonical-reader.js';
export type * from './canonical/canonical-records.js';
export * from './historic-import.js';
export * from './import-report.js';
export { importIds } from './import-ids.js';
export * from './adapters/vendor-export.js';
