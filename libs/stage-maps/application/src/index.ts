export * from './stage-map.commands.js';
export * from './stage-map.handlers.js';
export * from './stage-map.reader.js';
export * from './stage-maps-application.module.js';
