/** The images domain Lambda: manifest operations mapped to their service functions. */
import { domainHandler } from '../shared/handler.js';
import { completeArtifactUpload } from './complete.js';
import { createImage, resumeImageUpload } from './create.js';
import { deleteImage } from './delete.js';
import { artifactDownloadUrls } from './downloads.js';
import { setImageLabels } from './labels.js';
import { image, imageByName, images } from './list.js';
import { imagesManifest } from './manifest.js';

export const handler = domainHandler(imagesManifest, {
  image,
  images,
  imageByName,
  artifactDownloadUrls,
  createImage,
  resumeImageUpload,
  completeArtifactUpload,
  deleteImage,
  setImageLabels,
});
