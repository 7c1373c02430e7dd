// The field limit (MAX_FIELDS): how many field selections a document asks validation to check.
//
// Why: graphql-js's OverlappingFieldsCanBeMerged rule compares every pair of fields that share
// a response name in a selection set, and then their sub-selections pair by pair, so its work
// grows with the square of the fields. `{ viewer { permissions } }` written 440 times is well
// under the token limit and took 0.2–1.2 s of CPU to validate; graphql-js's own budget for
// the rule (500,000 comparisons) stops only at about a second. (Removing identical selections
// first would not do: `viewer { member { id } }`, `viewer { member { name } }` … differ.) Bounding the fields bounds
// that square, and with it every other rule, which are linear in the document. The default
// is set by bench/parse-validate.ts, which builds the worst documents that pass every limit
// and measures them against this schema.
//
// What is counted: every field of every operation, a fragment's fields once for each place it
// is spread (`...F` twice in one selection set counts F twice: validation compares what the
// spreads bring in, and execution collects it), and each spread itself as one more, because
// validation also compares the fragments spread in a selection set pairwise (150 distinct
// one-field fragments in one selection set cost like 300 fields). Inline fragments count
// what they hold. A fragment is counted once however often it is spread (memoized, so fragments that spread
// each other twice, forty levels deep, take forty steps, not 2^40), and a fragment definition
// that no operation reaches is counted on its own, because validation walks it all the same.
// Counted on the parsed document before it is validated, so a refused document costs its
// parse and one linear walk.
import { type DocumentNode, type FragmentDefinitionNode, Kind, type SelectionSetNode } from 'graphql';

export function countFieldSelections(document: DocumentNode): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    // The last of fragments with one name, as validation's getFragment (duplicates are refused
    // by validation; the others are counted below as fragments nothing reaches).
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const counted = new Map<FragmentDefinitionNode, number>();
  const counting = new Set<FragmentDefinitionNode>();

  function fragmentFields(fragment: FragmentDefinitionNode): number {
    const known = counted.get(fragment);
    if (known !== undefined) return known;
    // A spread inside its own fragment: a cycle, which validation refuses (NoFragmentCycles).
    if (counting.has(fragment)) return 0;
    counting.add(fragment);
    const fields = selectionSetFields(fragment.selectionSet);
    counting.delete(fragment);
    counted.set(fragment, fields);
    return fields;
  }

  function selectionSetFields(selectionSet: SelectionSetNode): number {
    let fields = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        fields += 1 + (selection.selectionSet ? selectionSetFields(selection.selectionSet) : 0);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        fields += selectionSetFields(selection.selectionSet);
      } else {
        const fragment = fragments.get(selection.name.value);
        fields += 1 + (fragment ? fragmentFields(fragment) : 0);
      }
    }
    return fields;
  }

  let total = 0;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) total += selectionSetFields(definition.selectionSet);
  }
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION && !counted.has(definition)) total += fragmentFields(definition);
  }
  return total;
}
