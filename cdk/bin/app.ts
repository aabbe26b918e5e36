/** `npx cdk deploy --all` runs this (see cdk.json): both Skyboot stacks, configured by context and environment. */
import { App } from 'aws-cdk-lib';
import { buildSkyboot } from '../lib/skyboot.js';

buildSkyboot(new App());
