// Stands in for `next build` with output: 'standalone': writes a fixed
// .next/standalone/server.js and .next/static (no timestamps, no build ids).
const fs = require("fs");
fs.mkdirSync(".next/standalone", { recursive: true });
fs.mkdirSync(".next/static/chunks", { recursive: true });
fs.writeFileSync(".next/standalone/server.js",
  'require("http").createServer((q, s) => s.end("hello\\n")).listen(process.env.PORT || 3000, process.env.HOSTNAME);\n');
fs.copyFileSync("package.json", ".next/standalone/package.json");
fs.writeFileSync(".next/static/chunks/main.js", "console.log('main');\n");
