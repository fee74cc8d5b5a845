import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { chainAnchorToJson, parseSigningKey, signChainAnchor } from '@dealstream/audit';
import { VERIFY_EXIT, plural, reportLines, withStoreToAudit, type VerifyIo } from './verify.command.js';

/**
 * `dealstream anchor [--out <file>] [--sign-key <ed25519 private key PEM>]`: verifies every hash chain,
 * then writes the chain anchor — every stream's head revision and hash, with a digest over them
 * (docs/audit.md), signed if a key is given — to the file, or to stdout.
 * Keep the file, or at least its digest, where the database's writers cannot reach; later,
 * `dealstream verify --anchor <file>` proves nothing before those heads was rewritten. A broken store
 * is not anchored (exit 1). Reads only.
 */
export async function runAnchor(args: string[], io: VerifyIo): Promise<number> {
  const { values } = parseArgs({ args, options: { out: { type: 'string' }, 'sign-key': { type: 'string' } } });
  let signingKey: string | undefined;
  if (values['sign-key'] !== undefined) {
    try {
      signingKey = await readFile(values['sign-key'], 'utf8');
      parseSigningKey(signingKey); // refuse an unusable key before any work
    } catch (error) {
      io.print(
        `error: cannot sign with ${values['sign-key']}: ${error instanceof Error ? error.message : String(error)}`,
      );
      return VERIFY_EXIT.unusable;
    }
  }
  if (values.out !== undefined && existsSync(values.out)) {
    io.print(`error: ${values.out} exists; an anchor is never overwritten`);
    return VERIFY_EXIT.unusable;
  }
  return withStoreToAudit(io, async (target) => {
    const taken = await target.takeAnchor();
    if (!taken.ok) {
      for (const line of reportLines(taken.verification, target.where)) io.print(line);
      io.print('refusing to anchor a store whose hash chains are broken');
      return VERIFY_EXIT.broken;
    }
    const anchor = signingKey === undefined ? taken.anchor : signChainAnchor(taken.anchor, signingKey);
    const json = JSON.stringify(chainAnchorToJson(anchor));
    if (values.out === undefined) {
      io.print(json);
      return VERIFY_EXIT.intact;
    }
    await writeFile(values.out, `${json}\n`, { flag: 'wx' });
    io.print(
      `anchored ${plural(anchor.streams, 'stream')}, ${plural(Number(anchor.events), 'event')} in ${target.where} to ${values.out}`,
    );
    io.print(
      signingKey === undefined
        ? `digest ${anchor.digest} (taken ${anchor.takenAt}): publish it where the database's writers cannot change it`
        : `digest ${anchor.digest} (taken ${anchor.takenAt}), signed with ed25519: check it with verify --anchor-public-key`,
    );
    return VERIFY_EXIT.intact;
  });
}

export async function anchorCommand(args: string[]): Promise<void> {
  process.exitCode = await runAnchor(args, { env: process.env, print: (line) => process.stdout.write(`${line}\n`) });
}
