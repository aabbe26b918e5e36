/** The boot domain Lambda: manifest operations mapped to their service functions. */
import { domainHandler } from '../shared/handler.js';
import { cloudInitFor, deleteCloudInit, setCloudInit } from './cloudInit.js';
import { bootConfiguration, bootConfigurations, deleteBootConfiguration, setBootConfiguration, writeBootConfiguration } from './configurations.js';
import { bootManifest } from './manifest.js';
import { bootConfigurationFor, bootScript } from './resolved.js';

export const handler = domainHandler(bootManifest, {
  bootConfiguration,
  bootConfigurations,
  bootConfigurationFor,
  bootScript,
  cloudInitFor,
  setBootConfiguration,
  writeBootConfiguration,
  deleteBootConfiguration,
  setCloudInit,
  deleteCloudInit,
});
