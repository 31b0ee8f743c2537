// ESLint for the hand-written JavaScript of the package and its browser
// suites (the scenarios tests/*.js and their helpers, ES modules in the page):
// eslint's recommended rules. Run by scripts/test.sh's lint stage:
//   eslint -c scripts/eslint.config.mjs src/web/js tests/*.js tests/support/*.js tests/support/*.mjs scripts/*.mjs
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.browser },
    },
  },
  {
    files: ["src/web/js/test/**", "tests/support/*.mjs", "scripts/*.mjs"],
    languageOptions: { globals: { ...globals.node } },
  },
];
