// Reads the character vectors of an R package's lazy-load data base (data/Rdata.rdx + data/Rdata.rdb), so a text
// corpus packaged for R (Debian's r-cran-janeaustenr) can be used without installing R.
//
// Rdata.rdx is a gzip-compressed R serialization of list(variables = list(name = c(offset, length)), ...);
// each variable's object sits in Rdata.rdb at offset: a 4-byte big-endian uncompressed length, then a zlib stream
// holding the object's serialization. Serializations are R's XDR format ("X\n", version 2 or 3): every item opens
// with a 32-bit flags word (type in the low byte, bit 9 = has attributes, bit 10 = has tag); vectors carry a
// length and their elements. Only the types a data package's text needs are read; any other type is an error that
// names it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, inflateSync } from 'node:zlib';

const NIL_TYPES = new Set([254, 242, 241, 253, 252, 251, 250]);  // NILVALUE, the special environments, MISSINGARG
const PAIR_TYPES = new Set([2, 3, 4, 5, 6, 17]);                 // LISTSXP, CLOSXP, ENVSXP, PROMSXP, LANGSXP, DOTSXP

class Reader {
  constructor(bytes) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.bytes = bytes;
    this.position = 0;
    this.references = [];
  }

  int() {
    const value = this.view.getInt32(this.position);
    this.position += 4;
    return value;
  }

  header() {
    const magic = String.fromCharCode(this.bytes[0], this.bytes[1]);
    if (magic !== 'X\n') throw new Error(`not an R XDR serialization (starts with ${JSON.stringify(magic)})`);
    this.position = 2;
    const version = this.int();
    this.int();  // the R version that wrote it
    this.int();  // the oldest R version that can read it
    if (version === 3) {
      const encodingLength = this.int();
      this.position += encodingLength;  // the native encoding's name
    }
  }

  item() {
    const flags = this.int();
    const type = flags & 0xff;
    const hasAttributes = (flags & (1 << 9)) !== 0;
    const hasTag = (flags & (1 << 10)) !== 0;
    if (NIL_TYPES.has(type)) return null;
    if (type === 255) {  // REFSXP: an earlier symbol, by 1-based index
      const index = flags >> 8 || this.int();
      return this.references[index - 1];
    }
    if (type === 1) {  // SYMSXP
      const symbol = { symbol: this.item() };
      this.references.push(symbol);
      return symbol;
    }
    if (PAIR_TYPES.has(type)) {
      const attributes = hasAttributes ? this.item() : null;
      const tag = hasTag ? this.item() : null;
      const car = this.item();
      const cdr = this.item();
      return { pair: true, tag: tag?.symbol ?? null, car, cdr, attributes };
    }
    if (type === 9) {  // CHARSXP
      const length = this.int();
      if (length === -1) return null;  // NA_character_
      const text = new TextDecoder().decode(this.bytes.subarray(this.position, this.position + length));
      this.position += length;
      return text;
    }
    if ([10, 13, 14, 16, 19, 20].includes(type)) {  // LGLSXP, INTSXP, REALSXP, STRSXP, VECSXP, EXPRSXP
      let length = this.int();
      if (length === -1) length = this.int() * 2 ** 32 + (this.int() >>> 0);
      const values = [];
      for (let index = 0; index < length; index++) {
        if (type === 14) {
          values.push(this.view.getFloat64(this.position));
          this.position += 8;
        } else {
          values.push(type === 10 || type === 13 ? this.int() : this.item());
        }
      }
      const attributes = hasAttributes ? this.item() : null;
      return { values, attributes };
    }
    throw new Error(`R serialization type ${type} is not supported by this reader`);
  }
}

// A pairlist (attributes, or a list's names) as a Map from tag to value.
function pairlist(node) {
  const entries = new Map();
  for (let at = node; at?.pair; at = at.cdr) entries.set(at.tag, at.car);
  return entries;
}

function unserialize(bytes) {
  const reader = new Reader(bytes);
  reader.header();
  return reader.item();
}

// { name: string[] } for every variable of the data base in `dataDirectory` (the package's data/ folder).
export function readLazyLoadStrings(dataDirectory) {
  const index = unserialize(gunzipSync(readFileSync(join(dataDirectory, 'Rdata.rdx'))));
  const indexNames = pairlist(index.attributes).get('names').values;
  const variables = index.values[indexNames.indexOf('variables')];
  const names = pairlist(variables.attributes).get('names').values;
  const database = readFileSync(join(dataDirectory, 'Rdata.rdb'));
  const result = {};
  names.forEach((name, index) => {
    const [offset, length] = variables.values[index].values;
    const blob = database.subarray(offset, offset + length);
    const object = unserialize(inflateSync(blob.subarray(4)));
    if (!object?.values?.every((value) => typeof value === 'string' || value === null)) {
      throw new Error(`R variable '${name}' is not a character vector`);
    }
    result[name] = object.values.map((value) => value ?? '');
  });
  return result;
}
