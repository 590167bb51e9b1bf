// oracle.js evaluates JSONata expressions with the reference implementation
// (jsonata-js from test/tools/node_modules) for the differential test.
// stdin: JSON array of {expr, input}; stdout: JSON array of
// {value} | {undefined: true} | {code, message}.
const path = require('path');
const jsonata = require(process.argv[2]);

async function main() {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  const cases = JSON.parse(text);
  const out = [];
  for (const c of cases) {
    try {
      const expr = jsonata(c.expr);
      const bindings = c.bindings || {};
      const value = await expr.evaluate(('input' in c) ? c.input : undefined, bindings);
      if (value === undefined) {
        out.push({undefined: true});
      } else {
        out.push({value: JSON.parse(JSON.stringify(value, (k, v) => (typeof v === 'function' ? '<function>' : v)) ?? 'null')});
      }
    } catch (e) {
      out.push({code: e.code || 'JS', message: e.message, position: e.position});
    }
  }
  process.stdout.write(JSON.stringify(out));
}
main();
