// Jest loads global setup outside its transform; tsx loads our TypeScript harness for it.
import { tsImport } from 'tsx/esm/api';

const { default: setup } = await tsImport('./awsEndpoints.ts', import.meta.url);
export default setup;
