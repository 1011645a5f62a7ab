#!/usr/bin/env node
// Thin launcher so `npx bron-broker` runs the compiled CLI.
import '../dist/src/cli.js';
