// The PP-OCR model files, imported as embedded files: each import gives the file's path.
declare module "*/ch_PP-OCRv4_det_infer.onnx" {
  const path: string;
  export default path;
}
declare module "*/ch_PP-OCRv4_rec_infer.onnx" {
  const path: string;
  export default path;
}
declare module "*/ppocr_keys_v1.txt" {
  const path: string;
  export default path;
}
