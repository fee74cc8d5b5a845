export * from './scripted-esdb-server.js';
