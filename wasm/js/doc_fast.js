// Appended by scripts/build-wasm to both wasm-bindgen glue files (node and
// web), where `Doc` is the generated class. Checking the argument types here
// is cheap; the typed exports then need no calls back into JS per edit.
// Anything else takes the checked exports, which throw the documented errors.
{
  const { insert: checkedInsert, delete: checkedDelete } = Doc.prototype;
  const rethrow = (error) => {
    if (error !== undefined) throw error;
  };
  Doc.prototype.insert = function insert(index, text) {
    if (typeof index === 'number' && typeof text === 'string') {
      if (text.length === 1) {
        // One code unit, not a surrogate: passed as a number, no string copy.
        const unit = text.charCodeAt(0);
        if ((unit & 0xf800) !== 0xd800) return rethrow(this.__insertUnit(index, unit, Date.now()));
      } else if (text.isWellFormed()) {
        return rethrow(this.__insert(index, text, Date.now()));
      }
    }
    return checkedInsert.call(this, index, text);
  };
  Doc.prototype.delete = function (index, length) {
    if (typeof index === 'number' && typeof length === 'number') {
      return rethrow(this.__delete(index, length, Date.now()));
    }
    return checkedDelete.call(this, index, length);
  };
}
