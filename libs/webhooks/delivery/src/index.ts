export * from './delivery-worker.js';
export * from './subscription-registry.js';
export * from './target-policy.js';
export * from './webhook-signature.js';
export * from './webhook.migrations.js';
export * from './webhook.tables.js';
export * from './delivery-config.js';
