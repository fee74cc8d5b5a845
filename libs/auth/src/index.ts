export * from './mint-token.js';
export * from './roles.js';
export * from './token-secret.js';
export * from './token-policy.js';
