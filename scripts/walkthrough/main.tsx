import { createRoot } from 'react-dom/client';
import { SlotwiseProvider } from '@slotwise/react';
import { BookingPage } from './BookingPage';

const params = new URLSearchParams(location.search);

createRoot(document.getElementById('root')!).render(
  <SlotwiseProvider options={{ url: params.get('api') ?? 'http://127.0.0.1:4000/graphql' }}>
    <BookingPage resourceId={params.get('resource')!} />
  </SlotwiseProvider>,
);
