/**
 * In a checkout the native libraries of sharp and onnxruntime-node load from node_modules as usual.
 * The compiled binary embeds them; scripts/build-binary.ts replaces this module with one that extracts
 * and preloads them (see src/native-embedded.ts).
 */
export async function prepareNativeLibraries(): Promise<void> {}
