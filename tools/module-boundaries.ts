import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * Module boundaries of the workspace, enforced by test/architecture/module-boundaries.unit.spec.ts.
 *
 * Every project (a folder with a project.json) carries one `type:*` tag. What a type may import:
 * - type:domain          → other type:domain projects only. No npm packages, no node built-ins:
 *                          deciders stay pure (no Nest, Kysely, pg, EventStoreDB, class-validator, I/O).
 * - type:infrastructure  → domain and infrastructure projects, npm packages except @nestjs/*.
 * - type:application     → domain, infrastructure and application projects, any package.
 * - type:app             → anything but other apps.
 * Relative imports must stay inside their project; spec files may also reach test/support and
 * import test-only packages (fast-check).
 * A `testing` entry point (an alias ending in `/testing`, or any file under a `testing/` folder:
 * DeciderSpec, fixtures) is for test code only: spec files and other `testing/` files may import
 * it, production files may not. (Files under test/ belong to no project and are not checked.)
 */
export interface Violation {
  readonly file: string;
  readonly specifier: string;
  readonly rule: string;
}

type ProjectType = 'domain' | 'infrastructure' | 'application' | 'app';

interface Project {
  name: string;
  root: string;
  type: ProjectType;
}

/** Packages a spec file may import in any project (they never reach production code). */
const TEST_ONLY_PACKAGES = ['fast-check', '@jest/globals'];

const MAY_DEPEND_ON: Record<ProjectType, ProjectType[]> = {
  domain: ['domain'],
  infrastructure: ['domain', 'infrastructure'],
  application: ['domain', 'infrastructure', 'application'],
  app: ['domain', 'infrastructure', 'application'],
};

export function findViolations(workspaceRoot: string): Violation[] {
  const root = resolve(workspaceRoot);
  const projects = findProjects(root);
  const aliases = readAliases(root);
  const violations: Violation[] = [];
  for (const project of projects) {
    for (const file of tsFiles(join(root, project.root))) {
      for (const specifier of importSpecifiers(readFileSync(file, 'utf8'))) {
        const rule = checkImport(root, project, file, specifier, projects, aliases);
        if (rule) violations.push({ file: relative(root, file), specifier, rule });
      }
    }
  }
  return violations;
}

function checkImport(
  root: string,
  project: Project,
  file: string,
  specifier: string,
  projects: Project[],
  aliases: Map<string, string>,
): string | undefined {
  if (!isTestCode(root, file) && isTestingEntry(dirname(file), specifier, aliases, root)) {
    return `production file imports the testing entry point ${specifier}; test helpers are for specs only`;
  }
  if (specifier.startsWith('.')) {
    const target = resolve(dirname(file), specifier);
    if (isInside(target, join(root, project.root))) return undefined;
    if (/\.spec\.ts$/.test(file) && isInside(target, join(root, 'test', 'support'))) return undefined;
    return `relative import leaves project ${project.name}; import the other project by its @dealstream alias`;
  }
  const aliasTarget = aliases.get(specifier);
  if (aliasTarget) {
    const target = projects.find((candidate) => isInside(join(root, aliasTarget), join(root, candidate.root)));
    if (!target) return `alias ${specifier} points outside every project`;
    if (target.name === project.name)
      return `project ${project.name} imports itself through its alias; use a relative import`;
    if (!MAY_DEPEND_ON[project.type].includes(target.type)) {
      return `type:${project.type} project ${project.name} may not depend on type:${target.type} project ${target.name}`;
    }
    return undefined;
  }
  if (specifier.startsWith('@dealstream/')) return `unknown workspace alias ${specifier}`;
  if (/\.spec\.ts$/.test(file) && TEST_ONLY_PACKAGES.includes(specifier)) return undefined;
  if (project.type === 'domain')
    return `type:domain project ${project.name} may not import packages or built-ins (${specifier}): keep deciders pure`;
  if (project.type === 'infrastructure' && specifier.startsWith('@nestjs/')) {
    return `type:infrastructure project ${project.name} may not import NestJS (${specifier})`;
  }
  return undefined;
}

/** Spec files and the helpers they share (`testing/` folders) are test code; everything else is production. */
function isTestCode(root: string, file: string): boolean {
  return /\.spec\.ts$/.test(file) || relative(root, file).split(sep).includes('testing');
}

/** Whether a specifier names a testing entry point: an alias `…/testing`, or a file under a `testing/` folder. */
function isTestingEntry(fromDir: string, specifier: string, aliases: Map<string, string>, root: string): boolean {
  if (specifier.startsWith('.')) return relative(root, resolve(fromDir, specifier)).split(sep).includes('testing');
  if (specifier.endsWith('/testing')) return true;
  const aliasTarget = aliases.get(specifier);
  return aliasTarget !== undefined && aliasTarget.split('/').includes('testing');
}

/** Static and dynamic import/export specifiers of a TypeScript file (type-only imports included). */
export function importSpecifiers(source: string): string[] {
  const specifiers: string[] = [];
  const patterns = [
    /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g,
    /(?:^|[\s;])import\s*['"]([^'"]+)['"]/g,
    /import\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  for (const pattern of patterns) for (const match of code.matchAll(pattern)) specifiers.push(match[1]);
  return specifiers;
}

function findProjects(root: string): Project[] {
  const projects: Project[] = [];
  for (const top of ['apps', 'libs']) {
    const base = join(root, top);
    if (!existsSync(base)) continue;
    for (const file of walk(base, (path) => path.endsWith(`${sep}project.json`))) {
      const config = JSON.parse(readFileSync(file, 'utf8')) as { name: string; tags?: string[] };
      const typeTag = (config.tags ?? []).find((tag) => tag.startsWith('type:'));
      const type = typeTag?.slice('type:'.length) as ProjectType | undefined;
      if (!type || !(type in MAY_DEPEND_ON))
        throw new Error(`${relative(root, file)}: needs one tag type:domain|infrastructure|application|app`);
      projects.push({ name: config.name, root: relative(root, dirname(file)), type });
    }
  }
  return projects;
}

function readAliases(root: string): Map<string, string> {
  const { compilerOptions } = JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8')) as {
    compilerOptions: { paths: Record<string, string[]> };
  };
  return new Map(Object.entries(compilerOptions.paths).map(([alias, [target]]) => [alias, target]));
}

/** TypeScript sources, the console's TSX included (declaration files import nothing at run time). */
function tsFiles(dir: string): string[] {
  return walk(dir, (path) => /\.tsx?$/.test(path) && !path.endsWith('.d.ts'));
}

function walk(dir: string, accept: (path: string) => boolean): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'dist' || entry === '__fixtures__') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...walk(path, accept));
    else if (accept(path)) found.push(path);
  }
  return found;
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && !/^[a-zA-Z]:/.test(rel));
}
