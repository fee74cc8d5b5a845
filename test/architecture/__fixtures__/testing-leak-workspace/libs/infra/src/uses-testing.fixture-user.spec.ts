// A spec in another project (named so that jest does not collect it) may import it too.
import { fixture } from '@dealstream/bad-domain/testing';
export const used = fixture;
