// wgsl_reflect's "main" is a CommonJS file inside a "type": "module" package, which Node cannot
// import by name; its ES module build is imported by path, with the package's own types.
declare module 'wgsl_reflect/wgsl_reflect.module.js' {
  export * from 'wgsl_reflect';
}
