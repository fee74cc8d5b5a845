import { describeImportCrash, salesforceExport } from './import-crash-scenario.js';

// A SIGKILLed import of a salesforce export, run again, ends where a clean import ends (import-crash-scenario.ts).
describeImportCrash('salesforce', salesforceExport);
