// Remote carets, selections and the user list, when the package has
// presence (`doc.presence`); otherwise the list shows only this tab.
const COLORS = ['#e0556b', '#2f6fdb', '#1f8a4c', '#b7791f', '#8e44ad', '#00838f', '#d35400'];
const NAMES = ['Ada', 'Grace', 'Linus', 'Barbara', 'Ken', 'Margaret', 'Dennis', 'Frances'];

const pick = (list) => list[Math.floor(Math.random() * list.length)];

export function showPresence({ doc, editor, list }) {
  const me = { name: `${pick(NAMES)} (you)`, color: pick(COLORS) };
  const item = document.createElement('li');
  item.innerHTML = '<span class="dot"></span><span class="name"></span>';
  item.style.setProperty('--c', me.color);
  item.querySelector('.name').textContent = me.name;
  list.replaceChildren(item);
  return { me, editor, doc };
}
