// Stub of Alloy's UI build: writes a fixed dist/ (no timestamps).
const fs = require("fs");
fs.mkdirSync("dist", { recursive: true });
fs.writeFileSync("dist/index.html", "<!doctype html><title>alloy</title>\n");
