/** Nest token of the Pseudonymizer whose key lives in the database (audit.pseudonym_key). */
export const PSEUDONYMIZER = Symbol.for('dealstream.audit.Pseudonymizer');
