
// ---- appended by wasm/wasm.cmake: the engine's deferred module on this pthread (web/lib/deferred_engine.ts) ----
// A pthread that calls into the engine's deferred module for the first time instantiates it too, over its own
// instance's table. Under Node it reads the file the primary module it was sent names in its "tinylm.deferred"
// custom section (wasm/split_engine.mjs), beside this script. In a browser it takes the bytes the engine's thread
// read and left in the heap (tinylm_deferred_module_slot, wasm/bindings.cpp), waiting for them if need be: its own
// request would wait on the engine's thread, which waits for it.
(function () {
  var deferredName;
  var receive = self.onmessage;
  self.onmessage = function (event) {
    var data = event && event.data;
    if (data && data.cmd === 'load' && data.wasmModule) {
      var names = WebAssembly.Module.customSections(data.wasmModule, 'tinylm.deferred');
      if (names.length) deferredName = new TextDecoder().decode(names[0]);
    }
    return receive.apply(this, arguments);
  };
  function read() {
    if (typeof require === 'function' && typeof __dirname === 'string') {
      if (!deferredName) throw new Error('the engine module names no deferred module');
      return require('fs').readFileSync(require('path').join(__dirname, deferredName));
    }
    var words = new Int32Array(Module['wasmMemory'].buffer);
    var at = Module['_tinylm_deferred_module_slot']() >>> 2;
    if (Atomics.load(words, at + 1) === 0) Atomics.wait(words, at + 1, 0, 60000);
    var length = Atomics.load(words, at + 1);
    if (length === 0) throw new Error("the engine's thread did not read it in 60 s");
    var address = Atomics.load(words, at) >>> 0;
    return new Uint8Array(Module['wasmMemory'].buffer).slice(address, address + length);
  }
  var loaded = false;
  Module['loadSplitModule'] = function (file, imports) {
    if (loaded) return;
    try {
      new WebAssembly.Instance(new WebAssembly.Module(read()), imports);
    } catch (error) {
      var message = "tinylm: a thread could not get the engine's deferred module " + (deferredName || '') + ': ' + error.message;
      console.error(message);
      throw new Error(message);
    }
    loaded = true;
  };
  Module['printErr'] = function (text) {
    if (!/^(placeholder function called: |instantiated deferred module, continuing$)/.test(text)) console.error(text);
  };
})();
