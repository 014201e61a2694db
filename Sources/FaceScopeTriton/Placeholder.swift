enum TritonPlaceholder {}
