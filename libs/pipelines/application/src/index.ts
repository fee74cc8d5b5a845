export * from './load-pipeline.js';
export * from './pipeline.commands.js';
export * from './pipeline.handlers.js';
export * from './pipelines-application.module.js';
