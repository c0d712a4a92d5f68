#!/usr/bin/env node
// `prepublishOnly` of every package: refuses `npm publish` while the package names no repository.
// The project has no public address yet, so the manifests carry none rather than an invented one
// (docs/packaging.md, "Repository URL"); whoever publishes sets it first, for every package:
//   npm pkg set repository.type=git repository.url=git+https://…/trellis.git --workspaces
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.cwd();
const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
const url = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
if (!url) {
  process.stderr.write(
    `${pkg.name}: not published — package.json names no repository. Set the project's public git address in every package first:\n` +
      '  npm pkg set repository.type=git repository.url=git+https://<host>/<owner>/trellis.git --workspaces\n' +
      '(and repository.directory=packages/<name> in each); see docs/packaging.md, "Repository URL".\n',
  );
  process.exit(1);
}
