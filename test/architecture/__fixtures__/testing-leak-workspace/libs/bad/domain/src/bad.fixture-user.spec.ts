// A spec (named so that jest does not collect it) may import testing entry points.
import { fixture } from './testing/index.js';
export const used = fixture;
