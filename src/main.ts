// Entry point of the page: registers the components; <lab-app> in index.html does the rest.
import './ui/lab-app';
