/** The images domain's public interface: operations, access and the GraphQL field each resolves. */
import type { DomainManifest } from '../shared/handler.js';

export const imagesManifest = {
  domain: 'images',
  scope: 'deployment',
  operations: {
    image: { access: 'read', field: 'Query.image' },
    images: { access: 'read', field: 'Query.images' },
    imageByName: { access: 'read', field: 'Query.imageByName' },
    artifactDownloadUrls: { access: 'agent', field: 'Query.artifactDownloadUrls' },
    createImage: { access: 'write', field: 'Mutation.createImage' },
    resumeImageUpload: { access: 'write', field: 'Mutation.resumeImageUpload' },
    completeArtifactUpload: { access: 'write', field: 'Mutation.completeArtifactUpload' },
    deleteImage: { access: 'write', field: 'Mutation.deleteImage' },
    setImageLabels: { access: 'write', field: 'Mutation.setImageLabels' },
  },
} as const satisfies DomainManifest;
