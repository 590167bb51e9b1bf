#!/usr/bin/env node
// validate-github.mjs checks that bodies look like GitHub's: REST response
// bodies against GitHub's OpenAPI description (@octokit/openapi) and webhook
// payloads against @octokit/webhooks-schemas.
//
// Usage: node validate-github.mjs CASES.json
//
// CASES.json is an array of cases, each one of
//   {"name": "...", "kind": "rest", "method": "GET", "path": "/repos/o/r/issues/1", "status": 200, "body": {...}}
//   {"name": "...", "kind": "webhook", "event": "issue_comment", "body": {...}}
// (a REST path is relative to the API root, without /api/v3; the webhook's
// action is read from body.action). It prints a JSON array of
// {"name", "ok", "schema", "errors"} on stdout, one per case, and exits 0; a
// case it cannot check (no such operation, no schema for the status) is not
// ok. Exit status 2 means the script itself failed.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "node_modules", "noop.js"));
const Ajv = require("ajv").default;
const addFormats = require("ajv-formats").default;

// OpenAPI 3.0's `nullable: true` becomes JSON Schema's "or null", wherever it
// appears (Ajv's own support needs a sibling `type`, which GitHub's
// description does not always give).
function nullableToAnyOf(node) {
  if (Array.isArray(node)) return node.map(nullableToAnyOf);
  if (node === null || typeof node !== "object") return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) out[k] = nullableToAnyOf(v);
  if (out.nullable === true) {
    delete out.nullable;
    return { anyOf: [{ type: "null" }, out] };
  }
  delete out.nullable;
  return out;
}

function newAjv() {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  return ajv;
}

function loadOpenAPI() {
  const file = join(here, "node_modules", "@octokit", "openapi", "generated", "api.github.com.json");
  const doc = JSON.parse(readFileSync(file, "utf8"));
  const ajv = newAjv();
  ajv.addSchema({ $id: "gh", components: nullableToAnyOf(doc.components) });
  // Templates sorted so that literal segments win over parameters.
  const ops = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    const segs = template.split("/");
    const re = new RegExp("^" + segs.map((s) => (s.startsWith("{") ? "[^/]+" : s.replace(/[.*+?^$()|[\]\\]/g, "\\$&"))).join("/") + "$");
    const params = segs.filter((s) => s.startsWith("{")).length;
    ops.push({ template, item, re, params });
  }
  ops.sort((a, b) => a.params - b.params);
  return { doc, ajv, ops };
}

function resolveRef(doc, node) {
  while (node && node.$ref) {
    const parts = node.$ref.replace(/^#\//, "").split("/").map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    node = parts.reduce((n, p) => n?.[p], doc);
  }
  return node;
}

function checkREST(api, c) {
  const path = c.path.split("?")[0];
  const op = api.ops.find((o) => o.re.test(path) && o.item[c.method.toLowerCase()]);
  if (!op) return { ok: false, errors: [`no operation ${c.method} ${path} in GitHub's description`] };
  const operation = op.item[c.method.toLowerCase()];
  const schemaRef = `${c.method} ${op.template} ${c.status}`;
  const resp = resolveRef(api.doc, operation.responses?.[String(c.status)]);
  if (!resp) return { ok: false, schema: schemaRef, errors: [`status ${c.status} is not a documented answer of ${c.method} ${op.template}`] };
  const media = resp.content?.["application/json"] ?? resp.content?.["application/scim+json"];
  if (!media) {
    const empty = c.body === null || c.body === undefined || c.body === "";
    return { ok: empty, schema: schemaRef, errors: empty ? [] : ["a body where GitHub answers none"] };
  }
  // Rewrite the operation's local refs to the components schema registered as "gh".
  const schema = JSON.parse(JSON.stringify(nullableToAnyOf(media.schema)).replace(/"\$ref":"#\//g, '"$ref":"gh#/'));
  const validate = api.ajv.compile(schema);
  const ok = validate(c.body);
  return { ok, schema: schemaRef, errors: ok ? [] : validate.errors.map(fmtError) };
}

function loadWebhooks() {
  const file = join(here, "node_modules", "@octokit", "webhooks-schemas", "schema.json");
  const schema = JSON.parse(readFileSync(file, "utf8"));
  const ajv = newAjv();
  const { oneOf, ...definitions } = schema; // one definition at a time
  ajv.addSchema({ ...definitions, $id: "wh" });
  return { schema, ajv };
}

function checkWebhook(wh, c) {
  const action = c.body?.action;
  const key = action ? `${c.event}$${action}` : c.event;
  let def = wh.schema.definitions[key];
  let ref = key;
  if (!def) {
    ref = `${c.event}_event`;
    def = wh.schema.definitions[ref];
  }
  if (!def) return { ok: false, errors: [`no schema for event ${key}`] };
  const validate = wh.ajv.getSchema(`wh#/definitions/${ref.replace(/~/g, "~0").replace(/\//g, "~1")}`);
  const ok = validate(c.body);
  return { ok, schema: ref, errors: ok ? [] : validate.errors.map(fmtError) };
}

function fmtError(e) {
  const extra = e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : e.params?.missingProperty ? "" : "";
  return `${e.instancePath || "/"} ${e.message}${extra}`;
}

function main() {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: node validate-github.mjs CASES.json");
    process.exit(2);
  }
  const cases = JSON.parse(readFileSync(file, "utf8"));
  let api, wh;
  const results = cases.map((c) => {
    try {
      if (c.kind === "rest") return { name: c.name, ...checkREST((api ??= loadOpenAPI()), c) };
      if (c.kind === "webhook") return { name: c.name, ...checkWebhook((wh ??= loadWebhooks()), c) };
      return { name: c.name, ok: false, errors: [`unknown kind ${c.kind}`] };
    } catch (err) {
      return { name: c.name, ok: false, errors: [String(err?.message ?? err)] };
    }
  });
  process.stdout.write(JSON.stringify(results, null, 1) + "\n");
}

try {
  main();
} catch (err) {
  console.error(err?.stack ?? String(err));
  process.exit(2);
}
