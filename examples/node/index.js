// Tells numbers from other strings with is-number, from the npm registry.
const isNumber = require("is-number");

for (const v of process.argv.length > 2 ? process.argv.slice(2) : ["42", "4.2e1", "forty-two"]) {
  console.log(`${v}: ${isNumber(v) ? "a number" : "not a number"}`);
}
