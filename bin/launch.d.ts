/** Types of launch.js (plain JavaScript: the bins run it before any loader). */
export declare const BUNDLE_DIR: URL;
export declare const MANIFEST: URL;
/** The bundle of `name` if no source it was built from is newer, else null. */
export declare function freshBundle(name: string): URL | null;
export declare function launch(name: string, tsEntry: string): Promise<void>;
