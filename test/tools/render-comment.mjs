#!/usr/bin/env node
// render-comment.mjs checks that status comments read on GitHub as they
// should: each body goes through GitHub's own Markdown parser (cmark-gfm with
// GitHub's extensions), the HTML is checked in headless Chromium, every
// mermaid block is parsed and drawn by the real mermaid library there, and a
// PNG screenshot of the rendered comment (HTML with the diagrams) is saved.
//
// Usage: node render-comment.mjs CASES.json OUTDIR
//
// CASES.json is an array of
//   {"name": "running", "body": "<markdown>",
//    "expect": {"rows": 6, "nodes": 6, "names": ["build", ...], "cells": ["a | b <c>", ...]}}
// where rows is the number of body rows of the comment's table (-1: no
// table), nodes the number of nodes the flowchart must draw, names the
// texts that must appear in the drawn flowchart and cells texts that some
// table cell must show exactly (whitespace collapsed): free text that went
// through the escaping and must come out as written. It prints a JSON array of
// {"name", "ok", "errors", "screenshot", "html"} on stdout, one per case,
// and exits 0; exit status 2 means the script itself failed (no browser).
//
// Nothing is fetched from the network: the page is set from a string, the
// mermaid bundle is injected from node_modules, and every request the page
// still makes is refused.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "node_modules", "noop.js"));
const cmark = require("cmark-gfm");
const { chromium } = require("playwright-core");
const mermaidJS = join(here, "node_modules", "mermaid", "dist", "mermaid.min.js");

// GitHub's comment rendering: GFM extensions, raw HTML kept (GitHub
// sanitises after), code blocks as <pre lang="x">.
const cmarkOptions = {
  unsafe: true,
  githubPreLang: true,
  extensions: { table: true, strikethrough: true, autolink: true, tagfilter: true, tasklist: true },
};

// A little of GitHub's markdown-body style, so screenshots look like a comment.
const style = `
body { margin: 0; background: #ffffff; }
.markdown-body { box-sizing: border-box; width: 880px; padding: 16px 24px;
  font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; color: #1f2328; }
.markdown-body h3 { font-size: 1.25em; margin: 8px 0 16px; }
.markdown-body table { border-collapse: collapse; display: block; overflow: auto; margin: 16px 0; }
.markdown-body th, .markdown-body td { border: 1px solid #d1d9e0; padding: 6px 13px; }
.markdown-body tr:nth-child(2n) { background: #f6f8fa; }
.markdown-body code { background: #eff1f3; border-radius: 6px; padding: .2em .4em; font-size: 85%; }
.markdown-body pre { background: #f6f8fa; border-radius: 6px; padding: 16px; overflow: auto; }
.markdown-body pre code { background: none; padding: 0; }
.markdown-body a { color: #0969da; }
.mermaid-svg { margin: 16px 0; }
`;

function page(html) {
  return `<!doctype html><html><head><meta charset="utf-8"><style>${style}</style></head>` +
    `<body><article class="markdown-body">${html}</article></body></html>`;
}

// checkHTML runs in the page: the structure GitHub readers see.
function checkHTML(expect) {
  const errors = [];
  const root = document.querySelector(".markdown-body");
  const tables = root.querySelectorAll("table");
  if (expect.rows >= 0) {
    if (tables.length !== 1) errors.push(`want one <table>, found ${tables.length}`);
    else {
      const t = tables[0];
      const rows = t.querySelectorAll("tbody tr");
      if (rows.length !== expect.rows) errors.push(`table has ${rows.length} rows, want ${expect.rows}`);
      const cols = t.querySelectorAll("thead th").length;
      rows.forEach((r, i) => {
        if (r.children.length !== cols) errors.push(`row ${i + 1} has ${r.children.length} cells, want ${cols}`);
      });
      const shown = new Set([...t.querySelectorAll("td")].map((td) => td.textContent.replace(/\s+/g, " ").trim()));
      for (const want of expect.cells || []) {
        if (!shown.has(want)) errors.push(`no table cell shows ${JSON.stringify(want)}`);
      }
    }
  }
  // The marker is an HTML comment: present in the DOM, invisible in the text.
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_COMMENT);
  let marker = false;
  while (walker.nextNode()) if (walker.currentNode.data.includes("ai3-mvp:bot")) marker = true;
  if (!marker) errors.push("no bot marker comment in the HTML");
  if (root.innerText.includes("ai3-mvp:bot")) errors.push("the bot marker shows as text");
  // A paragraph that starts a line with a pipe is a table row that did not
  // parse as one (pipes inside free text are escaped and fine).
  for (const p of root.querySelectorAll("p")) {
    if (/(^|\n)\s*\|/.test(p.textContent)) {
      errors.push(`raw "|" row outside the table: ${JSON.stringify(p.textContent.slice(0, 80))}`);
    }
  }
  // Free text never becomes markup that GitHub would act on.
  for (const tag of ["script", "img", "iframe", "style"]) {
    if (root.querySelector(tag)) errors.push(`the comment produced a <${tag}> element`);
  }
  const blocks = root.querySelectorAll('pre[lang="mermaid"], code.language-mermaid');
  if (blocks.length !== 1) errors.push(`want one mermaid block (<pre lang="mermaid">), found ${blocks.length}`);
  return errors;
}

// drawMermaid runs in the page: parse and render each block, replace it
// with its SVG, and check the nodes drawn.
async function drawMermaid(expect) {
  const errors = [];
  const mermaid = globalThis.mermaid;
  mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "default" });
  const blocks = [...document.querySelectorAll('pre[lang="mermaid"]')];
  for (const [i, pre] of blocks.entries()) {
    const text = pre.textContent;
    try {
      await mermaid.parse(text);
      const { svg } = await mermaid.render(`mermaid-${i}`, text);
      const div = document.createElement("div");
      div.className = "mermaid-svg";
      div.innerHTML = svg;
      pre.replaceWith(div);
      const nodes = div.querySelectorAll("g.node");
      if (expect.nodes >= 0 && nodes.length !== expect.nodes) {
        errors.push(`flowchart drew ${nodes.length} nodes, want ${expect.nodes}`);
      }
      const drawn = div.textContent;
      for (const name of expect.names || []) {
        if (!drawn.includes(name)) errors.push(`flowchart does not show ${name}`);
      }
    } catch (e) {
      errors.push(`mermaid rejected block ${i}: ${String(e && e.message || e).slice(0, 300)}`);
    }
  }
  return errors;
}

async function main() {
  const [casesPath, outDir] = process.argv.slice(2);
  if (!casesPath || !outDir) throw new Error("usage: render-comment.mjs CASES.json OUTDIR");
  const cases = JSON.parse(readFileSync(casesPath, "utf8"));
  mkdirSync(outDir, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  const results = [];
  try {
    const context = await browser.newContext({ viewport: { width: 880, height: 600 } });
    await context.route("**/*", (route) => route.abort()); // no network, ever
    // One page holds the mermaid bundle; each case replaces the comment in it.
    const p = await context.newPage();
    await p.setContent(page(""));
    await p.addScriptTag({ content: readFileSync(mermaidJS, "utf8") });
    for (const c of cases) {
      const r = { name: c.name, ok: false, errors: [], screenshot: "", html: "" };
      try {
        const html = cmark.renderHtmlSync(c.body, cmarkOptions);
        r.html = join(outDir, `${c.name}.html`);
        writeFileSync(r.html, page(html));
        // innerHTML never runs scripts, so a <script> that got through is found, not run.
        await p.evaluate((h) => { document.querySelector(".markdown-body").innerHTML = h; }, html);
        r.errors.push(...await p.evaluate(checkHTML, c.expect));
        r.errors.push(...await p.evaluate(drawMermaid, c.expect));
        r.screenshot = join(outDir, `${c.name}.png`);
        await p.screenshot({ path: r.screenshot, fullPage: true });
      } catch (e) {
        r.errors.push(String(e && e.stack || e));
      }
      r.ok = r.errors.length === 0;
      results.push(r);
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(results, null, 1) + "\n");
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + "\n");
  process.exit(2);
});
