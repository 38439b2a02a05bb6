// The two queries the bench loads: one subgraph's platform page, and the board that spans all three subgraphs.
export const PLATFORM_QUERY =
  'query Platform($id: ID!) { platform(id: $id) { id name venues { id name rooms { id name seats videoTerminal } } } }';
export const BOARD_QUERY = `query Board($from: DateTime!, $to: DateTime!) {
  schedule(from: $from, to: $to) {
    id role seats startsAt endsAt status
    room { name venue { name platform { name } } }
    project { code status expertDraw { status } }
  }
}`;
