#!/usr/bin/env node
// Compares the operations of the bundled OpenAPI description (JSON, from `redocly bundle`) with
// the daemon's route table (`containd --print-routes`: one "METHOD PATH ROLE" line per route).
//
//   node compare-routes.js <openapi.json> [<routes.txt>]
//
// Without a route table it checks only that every operation carries a valid x-containd-role.
// Exit status: 0 when they agree, 1 with one line per difference otherwise.
'use strict';
const fs = require('fs');

const ROLES = new Set(['none', 'viewer', 'submitter', 'operator']);
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

const [specFile, routesFile] = process.argv.slice(2);
if (!specFile) {
  console.error('usage: compare-routes.js <openapi.json> [<routes.txt>]');
  process.exit(2);
}
const spec = JSON.parse(fs.readFileSync(specFile, 'utf8'));
const problems = [];

// "METHOD PATH" -> role, from the description.
const documented = new Map();
for (const [path, item] of Object.entries(spec.paths || {})) {
  for (const method of METHODS) {
    const op = item[method];
    if (!op) continue;
    const key = `${method.toUpperCase()} ${path}`;
    const role = op['x-containd-role'];
    if (role === undefined) problems.push(`${key}: no x-containd-role in the OpenAPI description`);
    else if (!ROLES.has(role)) problems.push(`${key}: x-containd-role "${role}" is not one of ${[...ROLES].join(', ')}`);
    // A route without a token must say so (security: []); every other one needs the bearer token.
    const security = op.security !== undefined ? op.security : spec.security || [];
    const open = security.length === 0 || security.some((req) => Object.keys(req).length === 0);
    if (role === 'none' && !open) problems.push(`${key}: x-containd-role is none but the operation requires a token`);
    if (role !== undefined && role !== 'none' && open) problems.push(`${key}: x-containd-role is ${role} but the operation needs no token`);
    documented.set(key, role);
  }
}
if (documented.size === 0) problems.push('the OpenAPI description has no operations');

if (routesFile) {
  const served = new Map();
  const lines = fs.readFileSync(routesFile, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
  for (const line of lines) {
    const parts = line.split(/\s+/);
    if (parts.length !== 3) {
      problems.push(`containd --print-routes: malformed line "${line}" (want "METHOD PATH ROLE")`);
      continue;
    }
    const [method, path, role] = parts;
    const key = `${method.toUpperCase()} ${path}`;
    if (served.has(key)) problems.push(`${key}: listed twice by containd --print-routes`);
    served.set(key, role);
  }
  if (served.size === 0) problems.push('containd --print-routes printed no routes');
  for (const [key, role] of served) {
    if (!documented.has(key)) problems.push(`${key}: served (role ${role}) but not in the OpenAPI description`);
    else if (documented.get(key) !== role)
      problems.push(`${key}: the server requires ${role}, the OpenAPI description says ${documented.get(key)}`);
  }
  for (const [key, role] of documented)
    if (!served.has(key)) problems.push(`${key}: in the OpenAPI description (role ${role}) but not served`);
  if (problems.length === 0) console.log(`routes: the ${served.size} served routes match the OpenAPI description`);
} else if (problems.length === 0) {
  console.log(`routes: ${documented.size} operations, each with a valid x-containd-role (no binary given: not compared)`);
}

for (const p of problems) console.error(`routes: ${p}`);
process.exit(problems.length ? 1 : 0);
