/**
 * Key builders for every images item, so a layout is spelled once. docs/data-model.md
 * ("Images items") explains which access pattern each key serves.
 */
export const imageKey = (id: string) => ({ PK: `IMAGE#${id}`, SK: 'IMAGE' });
export const imagePk = (id: string) => `IMAGE#${id}`;
/** Name + version uniqueness claim, created with attribute_not_exists in createImage's transaction. */
export const imageNameKey = (name: string, version: string) => ({ PK: `IMAGENAME#${name}#${version}`, SK: 'IMAGENAME' });
export const imageLabelKey = (id: string, key: string) => ({ PK: `IMAGE#${id}`, SK: `LABEL#${key}` });
/** A content-addressed artifact, shared by every image that declares the same sha256. */
export const artifactKey = (sha256: string) => ({ PK: `ARTIFACT#${sha256}`, SK: 'ARTIFACT' });
export const artifactPk = (sha256: string) => `ARTIFACT#${sha256}`;
/** Artifact → image link: the finalizer finds the images whose status an artifact changes. */
export const artifactImageKey = (sha256: string, imageId: string) => ({ PK: `ARTIFACT#${sha256}`, SK: `IMAGE#${imageId}` });

/**
 * References that block deleteImage: any item with PK IMAGE#<id> and SK REF#<KIND>#<refId>.
 * The boot domain writes REF#BOOT_CONFIGURATION#<id>; orchestration writes REF#SESSION#<id>.
 */
export const REF_PREFIX = 'REF#';
export const imageRefKey = (imageId: string, kind: string, refId: string) => ({ PK: `IMAGE#${imageId}`, SK: `REF#${kind}#${refId}` });
/** Same idea for artifacts named directly (a boot configuration with explicit kernel/initrd). */
export const artifactRefKey = (sha256: string, kind: string, refId: string) => ({ PK: `ARTIFACT#${sha256}`, SK: `REF#${kind}#${refId}` });

/** GSI1: versions of one name, newest first. GSI1 on label items: images with one label. */
export const imagesByNamePk = (name: string) => `IMAGES#NAME#${name}`;
export const imagesByLabelPk = (key: string, value: string) => `IMAGES#LABEL#${key}=${value}`;
/** GSI2: every image, sorted by arch then name (begins_with arch for the arch filter). */
export const IMAGES_PK = 'IMAGES';
/** GSI3: images in one status. */
export const imagesByStatusPk = (status: string) => `IMAGES#STATUS#${status}`;

export const s3KeyFor = (sha256: string) => `artifacts/sha256/${sha256}`;
export const S3_KEY_PATTERN = /^artifacts\/sha256\/([0-9a-f]{64})$/;
