import { anchorCommand } from './anchor.command.js';
import { importCommand } from './import.command.js';
import { projectionsCommand } from './projections.command.js';
import { rebuildCommand } from './rebuild.command.js';
import { seedCommand } from './seed.command.js';
import { tokenCommand } from './token.command.js';
import { verifyCommand } from './verify.command.js';

const commands: Record<string, { run: (args: string[]) => Promise<void>; help: string }> = {
  seed: {
    run: seedCommand,
    help: 'seed [--deals 1000] [--months 12] [--seed 42]          write a deterministic synthetic history',
  },
  rebuild: {
    run: rebuildCommand,
    help: 'rebuild [--dry-run] [--batch-size 2000]              replay into fresh read models, check parity, swap',
  },
  projections: {
    run: projectionsCommand,
    help: 'projections status|parked|retry [--stream <id>] [--json]   lag behind the store head and the leader / streams held back by an unprojectable event / apply them after a fix',
  },
  token: { run: tokenCommand, help: 'token --sub <actor> --roles <r1,r2> [--expires 12h]   print a bearer token' },
  verify: {
    run: verifyCommand,
    help: 'verify [--stream <id>] [--anchor <file> [--anchor-public-key <pem>]] [--json]   check the hash chains (and an anchor); exit 1 if broken',
  },
  import: {
    run: importCommand,
    help: 'import --format canonical|salesforce|hubspot|pipedrive <files…> [--stage-map <f>] [--dry-run] [--strict] [--json] [--actor <name>]   bring CRM history in (docs/import.md)',
  },
  anchor: {
    run: anchorCommand,
    help: 'anchor [--out <file>] [--sign-key <pem>]              verify, then record every stream head and a digest (signed)',
  },
};

const [name, ...args] = process.argv.slice(2);
const command = name ? commands[name] : undefined;
if (!command) {
  console.error(
    `usage: dealstream <command>\n${Object.values(commands)
      .map((c) => `  ${c.help}`)
      .join('\n')}`,
  );
  process.exit(name ? 2 : 0);
}
try {
  await command.run(args);
} catch (error) {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
